# 8 lines 6 code 2 comments 0 blanks
# A blank between `<<-` and the word (bash allows it; seen in the kernel's perf tests).
cat <<- "_end_of_file_" | cc -xc -
	#include <stdio.h>
	# not a comment: the here-document's text
	_end_of_file_
cat <<- EOF
EOF
