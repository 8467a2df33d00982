-- 3 lines 1 code 2 comments 0 blanks
{- a -}
x = "-- no"
