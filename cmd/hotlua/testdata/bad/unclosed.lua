local Unclosed = hot.class("unclosed")

function Unclosed:go()
  if true then
