# 5 lines 2 code 3 comments 0 blanks
a = "\\"  # the string ended
b = '\\' ; c = """\\"""
"""a doc string \""" still the doc string"""
# end
