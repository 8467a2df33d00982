// 4 lines 1 code 3 comments 0 blanks
unsigned long big = 1'000UL; /* a C23 digit separator, then a comment
   line */
// a comment
