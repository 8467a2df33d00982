# 6 lines 4 code 2 comments 0 blanks
/* block */
{
  s = ''
    # not a comment
  '';
