# 6 lines 3 code 2 comments 1 blanks
fn main():
    print("hello")
# a line comment

var s = '# not a comment'
