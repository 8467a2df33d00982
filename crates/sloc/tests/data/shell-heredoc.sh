# 14 lines 11 code 2 comments 1 blanks
cat <<EOF >out.sh
#!/bin/sh
# a line of the generated script, not a comment here

echo "it's fine"
EOF
cat <<-'END'
	# still text
	END
x=$((1 << n)) # shift, not a heredoc: no line `n` ends it
# a real comment
cat <<< "here-string" # not a heredoc either
y=1
