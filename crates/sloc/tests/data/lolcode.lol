BTW 10 lines 5 code 4 comments 1 blanks
HAI 1.2
VISIBLE "HAI"
KTHXBYE
BTW a line comment

OBTW a block comment
   still inside it TLDR
y = 1; OBTW a comment after code TLDR
x = "BTW not a comment";
