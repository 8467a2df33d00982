/* 3 lines 1 code 2 comments 0 blanks */
/* /* C comments do not nest */
int x; */
