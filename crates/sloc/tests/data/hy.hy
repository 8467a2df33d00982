; 6 lines 3 code 2 comments 1 blanks
(defn greet [name]
  (print "hello" name))
; a line comment

(setv s "; not a comment")
