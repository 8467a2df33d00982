# 14 lines 11 code 3 comments 0 blanks
def f(cur):
    """Run the query: a doc string, a comment."""
    cur.execute(
        """
        SELECT 1
        """,
    )
    x = [
        """an item, code""",
    ]
    """A free-standing string after a statement: a comment."""
    return x + \
        """continued, code"""
