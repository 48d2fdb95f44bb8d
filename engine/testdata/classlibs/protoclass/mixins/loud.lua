return {shout = function(self) return "LOUD v1" end}
