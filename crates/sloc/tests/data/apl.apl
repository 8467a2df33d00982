⍝ 6 lines 3 code 2 comments 1 blanks
double ← {2×⍵}
double 3
⍝ a line comment

s ← '⍝ not a comment'
