#lang racket ; 3 lines 2 code 1 comments 0 blanks
; a comment
(define x 1)
