# 8 lines 3 code 5 comments 0 blanks
# Perl's `$"` (the list separator) and `$'` (the text after a match) are variables, not quotes.
local $" = ', ';
# a comment after $"
print "@list\n";
# a comment after a string
my $rest = $';
# a comment after $'
