// 9 lines 4 code 4 comments 1 blanks
#include <metal_stdlib>
using namespace metal;
// a line comment

/* a block comment
   still inside it */
float x = 1; /* a comment after code */
constant char *s = "// not a comment";
