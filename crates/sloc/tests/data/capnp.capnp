# 6 lines 3 code 2 comments 1 blanks
@0xbf5147cbbecf40c1;
struct Person { name @0 :Text; }
# a line comment

const s :Text = "# not a comment";
