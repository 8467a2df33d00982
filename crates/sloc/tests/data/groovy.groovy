// 5 lines 3 code 1 comments 1 blanks
def s = """
// not a comment"""

println s
