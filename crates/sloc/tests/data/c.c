// 26 lines 13 code 9 comments 4 blanks
#include <stdio.h>

/* A block comment
 * with a "string" inside
 */
int main(void) {
    const char *s = "/* not a comment */"; // trailing
    const char *t = "escaped \" quote // still string";
    char q = '"';   /* a quote char */
    char e = '\'';

    /* comment */ int x = 1;
    // comment only
    /* one */ /* two */

       
    printf("%s %s %c %c %d\n", s, t, q, e, x);
    return 0; /* start
    still comment */
}
#error don't worry
/* after the stray quote */
const char *long_s = "line one \
/* inside the string */ two";
// ok
