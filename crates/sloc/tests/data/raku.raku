# 14 lines 4 code 9 comments 1 blanks
sub double($x) { 2 * $x }
say double 3;
# a line comment

#`( a block comment
   still inside it )
#`[ another block comment ]
#`{ another block comment }
my $y = 1; #`( a comment after code )
my $s = "# not a comment";
=begin pod
Documentation; "quotes" do not matter here.
=end pod
