"""Running the whole product on one machine: training and the four servers."""
