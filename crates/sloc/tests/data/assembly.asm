; 4 lines 2 code 1 comments 1 blanks

section .text
msg db "a ; b", 0
