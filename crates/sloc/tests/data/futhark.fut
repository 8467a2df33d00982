-- 6 lines 3 code 2 comments 1 blanks
def main (xs: []i32) =
  reduce (+) 0 xs
-- a line comment

def s = "-- not a comment"
