"""lendvalue"""
