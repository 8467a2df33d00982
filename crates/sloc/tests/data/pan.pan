# 6 lines 3 code 2 comments 1 blanks
object template demo;
'/x' = 1;
# a line comment

"/s" = "# not a comment";
