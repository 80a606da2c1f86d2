"""facematch package."""
