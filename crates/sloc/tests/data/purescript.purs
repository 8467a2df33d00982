-- 10 lines 4 code 5 comments 1 blanks
module Main where
import Prelude
-- a line comment

{- a block comment
   still inside it -}
{- outer {- inner -} still a comment -}
x = 1 {- a comment after code -}
s = "-- not a comment"
