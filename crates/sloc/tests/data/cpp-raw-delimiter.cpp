// 11 lines 7 code 3 comments 1 blanks
const char *q = R"sql(
  SELECT "a" /* not a comment
  -- )" does not end it: only )sql" does
)sql";
auto j = u8R"json({"k": "*/"})json"; /* real */

/* real */
int after = 1;
auto n = R"not raw: a space comes before (";
// real: the line above closed its string
