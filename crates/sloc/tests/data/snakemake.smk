# 6 lines 3 code 2 comments 1 blanks
rule all:
    input: "a.txt"
# a line comment

    shell: '# not a comment'
