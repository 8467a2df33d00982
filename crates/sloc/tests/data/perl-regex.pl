# 24 lines 17 code 6 comments 1 blanks
# Regexes and quote-like operators hold quotes and `#` that open nothing.
my $s = 'a"b';
$s =~ s/"//g;
# a comment after a substitution with a quote
$s =~ s{'}{x}g;
$s =~ tr/'"//d;
my @words = qw(
  # inside qw: a word, not a comment
  "quoted"
);
my $re = qr{["']+};
if ($s =~ /"/) { print "yes\n" }  # trailing

my %h = (s => 1, y => 2, q => 3);
my $size = -s $0;
print $h{s} / 2, "\n"; # division: not a regex
my $path = q#not a comment#;
my @parts = split /'/, $s;
$s =~ m!"!;
# comment
$s = $s // 'default'; # defined-or
# comment after defined-or
# last
