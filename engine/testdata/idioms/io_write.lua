-- Output goes to the host's writers.
io.write("io.write ", 1, "\n")
io.stdout:write("stdout\n")
io.stderr:write("stderr\n")
return true
