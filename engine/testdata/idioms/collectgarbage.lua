-- Games collect between levels.
collectgarbage("collect")
collectgarbage("step")
collectgarbage("stop")
collectgarbage("restart")
assert(collectgarbage("count") > 0)
return true
