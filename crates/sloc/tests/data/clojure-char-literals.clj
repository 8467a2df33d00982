; 4 lines 2 code 2 comments 0 blanks
(def chars [\" \; \\])
; a comment: `\"` is a character literal
(println "done")
