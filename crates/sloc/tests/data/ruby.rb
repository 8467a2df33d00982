# 11 lines 4 code 5 comments 2 blanks
require 'set'

=begin
a block comment, # with a hash
=end
s = "not # a comment"
t = 'it\'s'

# trailing comment
puts s, t
