"""Xinglin (杏林): running county TCM programmes."""
