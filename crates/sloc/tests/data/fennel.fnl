; 6 lines 3 code 2 comments 1 blanks
(fn greet [name]
  (print (.. "hello " name)))
; a line comment

(local s "; not a comment")
