# 7 lines 4 code 3 comments 0 blanks
# A bare `%{…}` or `%(…)` is a string: a `#` line inside is its text, not a comment.
src = %{
#include <stdio.h>
}
# a comment
x = 10 % 3 # modulo
