# 12 lines 3 code 5 comments 4 blanks
use strict;

=pod

This is POD documentation, # not code.

=cut

my $s = "a # string";   # trailing
print $s;
# end
