// 14 lines 8 code 4 comments 2 blanks
#include <string>

auto raw = R"(a raw string with "quotes" and /* no comment */
// still inside the raw string
)";
/* block */
int f() { return 1; } // trailing

std::string s = "a \\"; // the backslash is escaped, the string is closed
/*
*/
char c = '\'';
int g();
