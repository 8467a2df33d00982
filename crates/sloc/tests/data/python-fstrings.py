# 6 lines 3 code 3 comments 0 blanks
s = f"{d["#"]} and {{braces}} and {x!r:>{width}}"
# a comment
t = f'''{
    # a comment in the replacement field
    x}'''
