-- 10 lines 4 code 5 comments 1 blanks
def double (n : Nat) : Nat :=
  2 * n
-- a line comment

/- a block comment
   still inside it -/
/- outer /- inner -/ still a comment -/
def x := 1 /- a comment after code -/
def s := "-- not a comment"
