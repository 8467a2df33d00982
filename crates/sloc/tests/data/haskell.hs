-- 8 lines 3 code 4 comments 1 blanks
{- outer {- nested -} still outer -}
module Main where

main :: IO ()
{- block
-}
main = putStrLn "{- not a comment -- either"
