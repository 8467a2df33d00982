-- 10 lines 4 code 5 comments 1 blanks
let x = 1
in  x + 1
-- a line comment

{- a block comment
   still inside it -}
{- outer {- inner -} still a comment -}
let y = 2 {- a comment after code -}
let s = "-- not a comment"
