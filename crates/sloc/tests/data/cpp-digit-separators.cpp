// 6 lines 3 code 3 comments 0 blanks
unsigned mask = 0xFFFF'FFFF; /* a comment: the quote above is a digit separator
   that continues */
int million = 1'000'000; /* another
   comment */ char c = u8'x'; wchar_t w = L'"';
// a comment
