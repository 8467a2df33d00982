# 9 lines 7 code 2 comments 0 blanks
policy = <<EOT
# not a comment: heredoc content
/* nor this */
EOT
script = <<-EOT
    # still content of an indented heredoc
    EOT
# a comment
