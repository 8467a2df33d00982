# 10 lines 5 code 4 comments 1 blanks
class ntp {
  package { 'ntp': ensure => installed }
}
# a line comment

/* a block comment
   still inside it */
$x = 1 /* a comment after code */
$s = "# not a comment"
