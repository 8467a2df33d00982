# 8 lines 6 code 2 comments 0 blanks
sql = <<~SQL
  # not a comment
  SELECT 1
SQL
list << item # a shift, not a heredoc
# real comment
class << self; end
