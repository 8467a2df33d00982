-- 6 lines 3 code 2 comments 1 blanks
class Thing
  name: "x"
-- a line comment

s = "-- not a comment"
