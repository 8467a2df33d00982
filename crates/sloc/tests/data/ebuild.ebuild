# 11 lines 7 code 3 comments 1 blanks
EAPI=8
SLOT="0"
# a line comment

DESCRIPTION="# not a comment"
# Here-documents as in bash, a blank after the marker allowed:
cat <<- EOF > "${T}/x"
	# text
	EOF
done=1
