# 6 lines 4 code 2 comments 0 blanks
print <<"END";
# printed, not a comment
END
my $n = 1 << 2; # shift
# real
