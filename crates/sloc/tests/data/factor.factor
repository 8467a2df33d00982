! 7 lines 3 code 3 comments 1 blanks
USING: io ;
: hello ( -- ) "hi" print ;
! a line comment
#! another kind of line comment

x = "! not a comment";
