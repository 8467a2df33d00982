# 6 lines 3 code 2 comments 1 blanks
sub double($x) { 2 * $x }
say(double(3));
# a line comment

my $s := "# not a comment";
