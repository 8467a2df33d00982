/* 9 lines 5 code 2 comments 2 blanks */
#ifndef FIXTURE_H
#define FIXTURE_H

/** Doc comment. */
int add(int a, int b); // declaration

#define STR "// not a comment"
#endif
