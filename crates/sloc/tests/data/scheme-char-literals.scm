; 4 lines 2 code 2 comments 0 blanks
(define cs (list #\" #\; #\\ #\|))
; a comment: `#\"` is a character literal
(display "done")
