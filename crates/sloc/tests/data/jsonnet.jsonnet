// 14 lines 8 code 5 comments 1 blanks
{
  name: "x",
// a line comment
# another kind of line comment

/* a block comment
   still inside it */
  n: 1, /* a comment after code */
  s: '// not a comment',
  t: |||
    # text block, not a comment
  |||,
}
